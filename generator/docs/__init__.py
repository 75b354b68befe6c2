"""Docs beside the code: folders of Markdown that entities point at, rendered into the site.

`sources` finds the folders and their page order, `render` turns one Markdown file into
sanitised HTML, `output` writes an entity's pages and skips folders whose content did
not change.
"""
