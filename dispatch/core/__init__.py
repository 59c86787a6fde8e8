"""The pure core of the domain: the case lifecycle, deadlines on the working calendar, routing,
actors and errors. Plain objects in, plain objects out: no database, no I/O, no clock; the ORM
classes are named for type checking only (tests/test_layers.py checks what importing loads)."""
