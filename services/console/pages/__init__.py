"""The console's pages, one module per area; each defines a page class whose methods are routes
(`services.console.web.page`). ConsoleService inherits them all."""
