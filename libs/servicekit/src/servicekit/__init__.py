"""What every service repeats: settings base, database engine, app factory, problem details, logs, worker."""
