"""Live positions over HTTP: phones running Traccar Client (the OsmAnd protocol) feed ingest."""
