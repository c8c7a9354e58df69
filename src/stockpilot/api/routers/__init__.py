"""One router per resource group; each route parses, calls a service, renders."""
