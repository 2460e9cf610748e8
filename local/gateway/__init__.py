"""A local stand-in for API Gateway (REST) serving the routes of `template.yaml`."""
