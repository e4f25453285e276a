"""The `zjtx` command line (typer + rich). One module per command group; main.py assembles them."""
