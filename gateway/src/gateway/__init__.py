"""The API gateway: one door for the app, departments and municipal systems."""
