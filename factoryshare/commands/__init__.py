"""Commands of later features, one module each; every module defines `register(cli)`.

A command module uses `factoryshare.cli.pass_context` and `Context.run` like the core
commands, and calls the same services as the API.
"""
