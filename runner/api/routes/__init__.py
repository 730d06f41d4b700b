"""Route modules: thin (validate, call one core service, return a schema)."""
