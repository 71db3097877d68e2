"""`salespulse deploy k8s --company NAME`: Kubernetes manifests for one company (bot/deploy_k8s.py says why)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.backup import strip_secrets
from bot.cli.support import config_from
from bot.deploy_k8s import DeployError, K8sOptions, render, to_yaml
from bot.errors import SalesPulseError
from prompts import Prompts


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="render deployment files (Kubernetes manifests for one company)")
    kinds = p.add_subparsers(dest="deploy_kind", metavar="KIND")
    k8s = kinds.add_parser("k8s", help="StatefulSet, Service, Ingress, ConfigMap and Secret for one company")
    k8s.add_argument("--company", required=True, help="short name: lower-case letters, digits and '-'")
    k8s.add_argument("--image", default="salespulse:latest", help="container image built from deploy/Dockerfile")
    k8s.add_argument("--namespace", default="salespulse")
    k8s.add_argument("--host", default="", help="public host for the platform callbacks (default <company>.bot.example.cn)")
    k8s.add_argument("--storage", default="2Gi", help="size of the database volume")
    k8s.add_argument("--storage-class", default="")
    k8s.add_argument("--ingress-class", default="nginx")
    k8s.add_argument("-o", "--out", type=Path, default=None, help="write to this file instead of standard output")
    k8s.set_defaults(handler=cmd_deploy_k8s)
    p.set_defaults(handler=lambda args: (p.print_help(), 0)[1])


def cmd_deploy_k8s(args: argparse.Namespace) -> int:
    config = config_from(args)
    t = Prompts(config.bot.locale).t
    bot_toml = ""
    if config.source and not config.source.startswith("<"):
        bot_toml, _blanked = strip_secrets(Path(config.source).read_text(encoding="utf-8"), t=t)
    options = K8sOptions(company=args.company, image=args.image, namespace=args.namespace, host=args.host,
                         storage=args.storage, storage_class=args.storage_class, ingress_class=args.ingress_class,
                         bot_toml=bot_toml)
    try:
        text = to_yaml(render(options))
    except DeployError:
        raise SalesPulseError(t("operations.deploy_bad_company", company=args.company)) from None
    if args.out is None:
        sys.stdout.write(text)
    else:
        args.out.write_text(text, encoding="utf-8")
        print(t("operations.deploy_written", path=args.out, company=args.company), file=sys.stderr)
    return 0
