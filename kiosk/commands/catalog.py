"""``kiosk catalog``: the services this terminal offers, and their guides."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from forms import Catalog, DefinitionInvalid, ServiceDefinition
from kiosk.catalog_source import open_catalog
from kiosk.cli import CliContext, CommandError, print_json

FORM_NAMES = {
    "original": ("原件", "original"),
    "copy": ("复印件", "copy"),
    "original_and_copy": ("原件及复印件", "original and copy"),
    "electronic": ("电子件", "electronic"),
}


def register(sub: Any) -> None:
    """Add ``catalog list`` and ``catalog show``."""
    parser = sub.add_parser("catalog", help="list services and show their guides")
    catalog_sub = parser.add_subparsers(dest="catalog_command", metavar="ACTION", required=True)

    p = catalog_sub.add_parser("list", help="list the services of the active catalog")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    p.set_defaults(handler=list_services)

    p = catalog_sub.add_parser("show", help="show one service's guide (办事指南)")
    p.add_argument("service_id", metavar="SERVICE_ID")
    p.add_argument("--json", action="store_true", help="print the guide as JSON")
    p.add_argument("--lang", choices=("zh_CN", "en"), help="language (default: the terminal's)")
    p.set_defaults(handler=show_service)


def load(ctx: CliContext) -> Catalog:
    """The active catalog, or a clear error naming every broken file."""
    try:
        return open_catalog(ctx.data_dir, ctx.config)
    except DefinitionInvalid as exc:
        raise CommandError(f"the service catalog has errors:\n{exc}") from exc


def find(catalog: Catalog, service_id: str) -> ServiceDefinition:
    """One service, or a clear error listing the ids that exist."""
    try:
        return catalog.get(service_id)
    except KeyError:
        known = ", ".join(s.id for s in catalog.services)
        raise CommandError(f"no service {service_id!r} in the catalog; known services: {known}") from None


def list_services(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk catalog list``."""
    catalog = load(ctx)
    rows = [
        {
            "id": s.id,
            "version": s.version,
            "name_zh": s.name.zh_CN,
            "name_en": s.name.en,
            "category": s.category,
            "department_zh": s.department.zh_CN,
            "department_en": s.department.en,
            "completable_at_kiosk": s.guide.completable_at_kiosk,
        }
        for s in catalog.services
    ]
    if args.json:
        print_json(rows)
        return 0
    width = max(len(r["id"]) for r in rows)
    for r in rows:
        sys.stdout.write(f"{r['id']:<{width}}  {r['version']:<7} {r['name_zh']}  ({r['name_en']})  [{r['category']}]\n")
    return 0


def guide_as_dict(s: ServiceDefinition) -> dict[str, Any]:
    """The service guide as plain data (both languages)."""
    g = s.guide

    def both(text: Any) -> dict[str, str] | None:
        return None if text is None else {"zh_CN": text.zh_CN, "en": text.en}

    return {
        "id": s.id,
        "version": s.version,
        "name": both(s.name),
        "description": both(s.description),
        "department": both(s.department),
        "category": s.category,
        "eligibility": [both(e) for e in g.eligibility],
        "materials": [
            {
                "id": m.id,
                "name": both(m.name),
                "form": m.form,
                "copies": m.copies,
                "scannable": m.scannable,
                "required": m.required,
                "note": both(m.note),
            }
            for m in g.materials
        ],
        "time_limit": {
            "legal_working_days": g.legal_working_days,
            "promised_working_days": g.promised_working_days,
        },
        "fees": [{"name": both(f.name), "amount_cny": str(f.amount_cny), "note": both(f.note)} for f in g.fees],
        "legal_basis": [both(b) for b in g.legal_basis],
        "where": both(g.where),
        "completable_at_kiosk": g.completable_at_kiosk,
        "kiosk_note": both(g.kiosk_note),
        "steps": [{"id": st.id, "title": both(st.title), "fields": len(st.fields)} for st in s.steps],
    }


def _days(n: int, lang: str) -> str:
    if n == 0:
        return "当场办结" if lang == "zh_CN" else "same day"
    if lang == "zh_CN":
        return f"{n} 个工作日"
    return "1 working day" if n == 1 else f"{n} working days"


def show_service(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk catalog show SERVICE_ID``."""
    catalog = load(ctx)
    s = find(catalog, args.service_id)
    if args.json:
        print_json(guide_as_dict(s))
        return 0
    lang = args.lang or ctx.config.terminal.language
    zh = lang == "zh_CN"
    g = s.guide
    out: list[str] = [
        f"{s.name.get(lang)}  ({s.id} v{s.version})",
        f"{'办理部门' if zh else 'Department'}: {s.department.get(lang)}",
        "",
        s.description.get(lang),
        "",
        "申请条件" if zh else "Who can apply",
    ]
    out += [f"  - {e.get(lang)}" for e in g.eligibility]
    out += ["", "申请材料" if zh else "Documents to bring"]
    for m in g.materials:
        form = FORM_NAMES[m.form][0 if zh else 1]
        conditional = m.required is not True
        tags = [f"{form} ×{m.copies}"]
        if m.scannable:
            tags.append("可在自助机扫描" if zh else "can be scanned here")
        if conditional:
            tags.append("视情况提供" if zh else "only in some cases")
        out.append(f"  - {m.name.get(lang)} ({'; '.join(tags)})")
    if not g.materials:
        out.append("  - " + ("无" if zh else "none"))
    out += [
        "",
        f"{'法定时限' if zh else 'Legal time limit'}: {_days(g.legal_working_days, lang)}; "
        f"{'承诺时限' if zh else 'promised'}: {_days(g.promised_working_days, lang)}",
    ]
    if g.is_free:
        out.append(f"{'收费' if zh else 'Fees'}: {'不收费' if zh else 'free of charge'}")
    else:
        out.append("收费" if zh else "Fees")
        out += [f"  - {f.name.get(lang)}: ¥{f.amount_cny}" for f in g.fees]
    out += ["", "办理依据" if zh else "Legal basis"]
    out += [f"  - {b.get(lang)}" for b in g.legal_basis]
    out += ["", f"{'办理地点' if zh else 'Where'}: {g.where.get(lang)}"]
    kiosk_line = (
        ("可在自助机全程办理" if zh else "Can be completed at this kiosk")
        if g.completable_at_kiosk
        else ("需到窗口办理" if zh else "Must be completed at a service window")
    )
    out.append(kiosk_line)
    if g.kiosk_note:
        out.append(g.kiosk_note.get(lang))
    sys.stdout.write("\n".join(out) + "\n")
    return 0
