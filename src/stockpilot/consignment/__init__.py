"""Consignment and vendor-managed stock: supplier-owned goods kept and used at our sites."""
