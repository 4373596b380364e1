"""Hosting: models, endpoint configurations, endpoints and the fleet of model servers behind them."""
