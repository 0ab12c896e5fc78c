"""The web console (工作台): server-rendered pages for staff and partner agencies, a client of
the services' HTTP APIs (docs/console.md)."""
