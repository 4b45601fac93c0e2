"""The flows: the one place that composes the steps (crawl -> archive -> extract -> stage).

- :mod:`pipeline.flows.nightly`: the scheduled crawl, with retries from the archive;
- :mod:`pipeline.flows.reextract`: archive -> extract -> stage, after an extractor change;
- :mod:`pipeline.flows.oneoff`: one URL or file, extracted (``oneoff_staging``: staged);
- :mod:`pipeline.flows.demo`: the offline demo on a bundled sample portal.

Each step (:mod:`pipeline.crawl`, :mod:`pipeline.archive`, :mod:`pipeline.extract`,
:mod:`pipeline.stage`, :mod:`pipeline.load`) knows nothing of the others; only code in
this package imports more than one of them.
"""
