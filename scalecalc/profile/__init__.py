"""Device profiles: the time model, fitting, published data, reports, built-in profiles."""
