"""Maps on Leaflet (folium) in QtWebEngine, offline: nothing is loaded from the network.

- ``assets``  the third-party web files, fetched at install time from the npm registry
              (pinned, integrity-checked); no Qt
- ``page``    folium made local: a page of layers written to a file for a view to load
- ``layers``  what can go on a map, each a function over plain data (routes; trails and
              zones for the monitoring screens)
- ``view``    ``MapView``: the QWebEngineView that shows a page and reports marker clicks

Import ``view`` only where a widget is wanted; ``assets`` runs without a display.
"""
