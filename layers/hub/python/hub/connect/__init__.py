"""The hosted connect page: signed links, who watches which session, live pushes."""
