"""The pipeline's stages, one package each (discover, fetch, extract, enrich), and their Prefect tasks.

Each stage is plain functions over the records of :mod:`broadsheet.config.records`; its package's
``__init__`` is its public surface. :mod:`.batch` wraps the stages as Prefect tasks over whole batches,
and :mod:`.workers` spreads extraction and enrichment over worker processes.
"""
