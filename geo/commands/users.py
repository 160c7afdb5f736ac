"""`lagesbild users`: manage local accounts in the accounts file (issue 9).

``lagesbild users add NAME --role ROLE`` asks for the password twice (not echoed) unless
``--oidc`` (an OpenID Connect account: no password) or ``--password-stdin``;
``lagesbild users remove NAME``; ``lagesbild users list``. The file is env
``LAGESBILD_USERS_FILE`` or ``<data dir>/users.toml`` (``--file`` overrides). Every change is
written to the audit log with the operating-system user as the actor.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from geo import audit, auth
from geo.errors import InputError
from geo.exports import os_user
from geo.store import ROLES, Store


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ``users`` subcommand."""
    p = subparsers.add_parser(
        "users",
        help="add, remove or list local accounts",
        description="Manage the accounts file: username, role and argon2id password hash.",
    )
    p.add_argument("--file", metavar="PATH", help="accounts file (default: LAGESBILD_USERS_FILE)")
    sub = p.add_subparsers(dest="users_command", metavar="ACTION", required=True)
    add = sub.add_parser("add", help="add or replace an account")
    add.add_argument("name", metavar="NAME")
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--display-name", default="", metavar="TEXT")
    how = add.add_mutually_exclusive_group()
    how.add_argument("--oidc", action="store_true", help="OpenID Connect account, no password")
    how.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    rm = sub.add_parser("remove", help="remove an account")
    rm.add_argument("name", metavar="NAME")
    sub.add_parser("list", help="list the accounts (never the hashes)")
    p.set_defaults(func=run)


def _password(args: argparse.Namespace) -> str | None:
    if args.oidc:
        return None
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Lösenord: ")
    if first != getpass.getpass("Lösenord igen: "):
        raise InputError("Lösenorden var inte lika; inget konto sparades.")
    return first


def run(args: argparse.Namespace) -> int:
    path = args.file or auth.users_file()
    if args.users_command == "list":
        for a in auth.load_accounts(path).values():
            login = "lösenord" if a.password_hash else "OpenID Connect"
            print(f"{a.username}\t{a.role}\t{login}\t{a.display_name}")
        return 0
    actor = f"cli:{os_user()}"
    if args.users_command == "add":
        try:
            account = auth.add_account(
                path, args.name, args.role, _password(args), display_name=args.display_name
            )
        except ValueError as exc:  # a too-short password
            raise InputError(str(exc)) from exc
        audit.record_edit(
            Store(), actor, None, target_type="user", target_id=account.username, verb="add",
            new_role=account.role, password=bool(account.password_hash),
        )  # fmt: skip
        print(f"Kontot {account.username} ({account.role}) är sparat i {path}.")
        return 0
    auth.remove_account(path, args.name)
    audit.record_deletion(Store(), actor, None, target_type="user", target_id=args.name)
    print(f"Kontot {args.name} är borttaget ur {path}.")
    return 0
