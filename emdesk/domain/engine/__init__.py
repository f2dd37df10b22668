"""The monitoring engine: pure functions from one order's ordered events to alerts and incidents.

Data flows one way, and every step is a plain function that a case table can test:

    Watch (the order, compiled)  +  EventBatch (its events, columnar, time-ordered)
      -> gps_rules.fix_quality      which fixes can be believed (technical ones marked)
      -> *_rules.*_hits             Hit: one alert, with its UK code, start, end, certainty
      -> incidents.merge            one continuous violation is one incident
      -> priority.score             a priority and its reasons in words
    evaluate.evaluate_period does all of it for one 07:00-06:59 violation period.

Times inside the engine are integer milliseconds since the epoch (UTC), so that numpy
can compare whole days of fixes at once; a national day is 21.6 million fixes.
"""
