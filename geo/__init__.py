"""Grid geography: boundary files, coordinate systems and locating points in grids.

Pure computation plus file reading; it knows nothing of cases, chats or the database.
"""
