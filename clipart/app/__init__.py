"""The web app over a run: the gallery, the review desk's routes, their pages and static files."""
