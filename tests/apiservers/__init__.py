"""HTTPS test servers imitating the storage appliances' REST APIs (see base.py)."""
