"""`python -m console`: the staff console on CONSOLE_PORT (default 5006)."""

from console.app import main

main()
