"""The relationship picture of an entity page: an inline SVG laid out at build time.

Incoming edges sit in a column on the left, outgoing edges on the right, the entity in the
middle; every neighbour is a clickable SVG link. No JavaScript is involved, so the picture
shows from `file://` and in any browser. Colours come from CSS classes, so dark mode applies.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

MAX_PER_SIDE = 12
"""Neighbours drawn per column; the rest are listed as links below the picture."""
NODE_W = 210
NODE_H = 40
ROW_H = 52
WIDTH = 780
LABEL_CHARS = 26


@dataclass(frozen=True, slots=True)
class Node:
    """A neighbour to draw: its label, kind (for colour), link, and the edge type."""

    label: str
    kind: str
    href: str
    edge: str


def _esc(text: str) -> str:
    """HTML-escape for attribute and text content (a plain-str version of markupsafe's)."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


def _short(text: str, limit: int = LABEL_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _column(nodes: list[Node], x: int, height: int, center_y: int, left: bool) -> list[str]:
    parts: list[str] = []
    shown = nodes[:MAX_PER_SIDE]
    hidden = len(nodes) - len(shown)
    rows = len(shown) + (1 if hidden else 0)
    top = (height - rows * ROW_H) // 2 + (ROW_H - NODE_H) // 2
    cx = WIDTH // 2
    for i, node in enumerate(shown):
        y = top + i * ROW_H
        ny = y + NODE_H // 2
        if left:
            x1, y1, x2, y2 = x + NODE_W, ny, cx - NODE_W // 2, center_y
        else:
            x1, y1, x2, y2 = cx + NODE_W // 2, center_y, x, ny
        mx = (x1 + x2) // 2
        path = f"M{x1},{y1} C{mx},{y1} {mx},{y2} {x2},{y2}"
        parts.append(f'<path class="edge" d="{path}" marker-end="url(#arrow)"/>')
        label_x = x1 + 8 if left else x2 - 8
        anchor = "start" if left else "end"
        parts.append(
            f'<text class="edge-label" x="{label_x}" y="{ny - 6}" '
            f'text-anchor="{anchor}">{_esc(node.edge)}</text>'
        )
        parts.append(
            f'<a href="{_esc(node.href)}"><title>{_esc(node.kind)}: {_esc(node.label)}'
            f'</title><rect class="node k-{_esc(node.kind.lower())}" x="{x}" y="{y}" '
            f'width="{NODE_W}" height="{NODE_H}" rx="8"/>'
            f'<text class="node-kind" x="{x + 10}" y="{y + 15}">'
            f"{_esc(node.kind)}</text>"
            f'<text class="node-label" x="{x + 10}" y="{y + 31}">'
            f"{_esc(_short(node.label))}</text></a>"
        )
    if hidden:
        y = top + len(shown) * ROW_H + NODE_H // 2
        parts.append(
            f'<text class="more" x="{x + NODE_W // 2}" y="{y}" text-anchor="middle">'
            f"+{hidden} more (listed below)</text>"
        )
    return parts


def relations_svg(center_label: str, center_kind: str, incoming: list[Node],
                  outgoing: list[Node]) -> Markup:
    """The SVG picture of an entity and its neighbours, safe to embed as-is."""
    rows = max(min(len(incoming), MAX_PER_SIDE) + (len(incoming) > MAX_PER_SIDE),
               min(len(outgoing), MAX_PER_SIDE) + (len(outgoing) > MAX_PER_SIDE), 1)
    if not incoming and not outgoing:
        rows = 2
    height = rows * ROW_H + 24
    center_y = height // 2
    cx = WIDTH // 2
    parts = [
        f'<svg class="relations" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="Relationships of {_esc(center_label)}" xmlns="http://www.w3.org/2000/svg">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path class="arrow" d="M0,0 L10,5 L0,10 z"/>'
        "</marker></defs>",
    ]
    parts += _column(incoming, 10, height, center_y, left=True)
    parts += _column(outgoing, WIDTH - NODE_W - 10, height, center_y, left=False)
    parts.append(
        f'<rect class="node center k-{_esc(center_kind.lower())}" x="{cx - NODE_W // 2}" '
        f'y="{center_y - NODE_H // 2}" width="{NODE_W}" height="{NODE_H}" rx="8"/>'
        f'<text class="node-kind" x="{cx - NODE_W // 2 + 10}" y="{center_y - 5}">'
        f"{_esc(center_kind)}</text>"
        f'<text class="node-label" x="{cx - NODE_W // 2 + 10}" y="{center_y + 11}">'
        f"{_esc(_short(center_label))}</text>"
    )
    if not incoming and not outgoing:
        parts.append(
            f'<text class="more" x="{cx}" y="{center_y + NODE_H}" text-anchor="middle">'
            "No relationships</text>"
        )
    parts.append("</svg>")
    return Markup("".join(parts))
