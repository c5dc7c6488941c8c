"""Cataloguing: proposals for uncatalogued images, the SQLite review database and its migrations, the export."""
