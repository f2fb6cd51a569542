"""Back-office service: department task lists, working-day deadlines, decisions, supervision (督查)."""
