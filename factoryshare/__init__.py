"""factoryshare: the domain of Indonesia's shared production houses.

Models, services (use cases), scheduled jobs, configuration and the command line live here.
This package never imports the HTTP layer (`api`); the solver (`solver`) is its only
optimisation dependency.
"""

__version__ = "0.1.0"
