"""Views: charts, reports and the notebook explorer, drawn from results and run folders.

May import: the layers before it (errors to runs).
"""
