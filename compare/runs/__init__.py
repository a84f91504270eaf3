"""Runs: scheduled jobs (job file, orchestration, versions, site).

Also fetching, the run store, story grouping, Dask and the demo feed server.
"""
