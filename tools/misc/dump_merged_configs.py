"""Every shipped config merged as mmengine merges it, dumped or compared.

    python tools/misc/dump_merged_configs.py --out /tmp/before.json [PATH ...]
    python tools/misc/dump_merged_configs.py --compare /tmp/before.json [PATH ...]

A refactoring of configs (moving a block into a ``_base_`` file, splitting a base)
must not change what any config means. This script parses every config under
``configs/`` (default: the files outside ``_base_/`` folders, the ones a command line
or a tool names; PATH limits it to files or folders) with ``Config.fromfile`` and
writes its merged content; ``--compare`` parses them again and names every config
whose merged content is not the same as in the dump, with the keys that differ.

"The same" is exact below the top level: dict keys in their order (a connector or a
loss is built in that order), lists and tuples told apart, numbers and strings as
written. The top-level keys are compared as a set (mmengine's Runner reads them by
name; their order only says which base file listed them first). ``{{ fileDirname }}``
paths are written relative to the checkout, so two checkouts compare.

Exit status: 0 when every config compared is the same, 1 when one differs, is
missing or no longer parses.
"""
import argparse
import json
import os
import os.path as osp
import sys

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
if REPO not in sys.path:
    sys.path.insert(0, REPO)


def leaf_configs(paths=None, with_bases=False):
    """The ``.py`` configs under ``paths`` (default ``configs/``), relative to the
    checkout, sorted; files under a ``_base_`` folder only with ``with_bases``."""
    found = []
    for path in paths or [osp.join(REPO, 'configs')]:
        path = osp.abspath(path)
        if osp.isfile(path):
            found.append(path)
            continue
        for root, dirs, files in os.walk(path):
            dirs[:] = sorted(d for d in dirs if d != '__pycache__'
                             and (with_bases or d != '_base_'))
            found += [osp.join(root, f) for f in files if f.endswith('.py')]
    return sorted(osp.relpath(p, REPO) for p in found)


def canonical(obj):
    """A JSON-able form of a merged config value that keeps what ``==`` on dicts
    would not: key order, and tuples apart from lists."""
    if isinstance(obj, dict):
        return {'dict': [[str(k), canonical(v)] for k, v in obj.items()]}
    if isinstance(obj, tuple):
        return {'tuple': [canonical(v) for v in obj]}
    if isinstance(obj, list):
        return [canonical(v) for v in obj]
    if isinstance(obj, str):
        return obj.replace(REPO + os.sep, '<repo>/')
    if obj is None or isinstance(obj, (bool, int, float)):
        return obj
    return {'repr': repr(obj)}


def merged(rel):
    """``configs/...`` parsed by mmengine: {top-level key: canonical value}."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, rel))
    return {k: canonical(v) for k, v in cfg.to_dict().items()}


def dump(rels):
    out, errors = {}, {}
    for rel in rels:
        try:
            out[rel] = merged(rel)
        except Exception as exc:  # noqa: BLE001 - a config that does not parse is named
            errors[rel] = f'{type(exc).__name__}: {exc}'
    return out, errors


def differences(before, after):
    """The top-level keys whose merged values differ (or are only on one side)."""
    keys = sorted(set(before) | set(after))
    return [k for k in keys if before.get(k, '<absent>') != after.get(k, '<absent>')]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('paths', nargs='*', help='config files or folders (default configs/)')
    g = p.add_mutually_exclusive_group(required=True)
    g.add_argument('--out', help='write the merged configs to this JSON file')
    g.add_argument('--compare', help='compare with the JSON file an earlier --out wrote')
    p.add_argument('--with-bases', action='store_true',
                   help='also the files under _base_/ folders')
    args = p.parse_args(argv)
    if args.compare and not args.paths:
        with open(args.compare) as fh:
            rels = sorted(json.load(fh)['configs'])
    else:
        rels = leaf_configs(args.paths, args.with_bases)
    configs, errors = dump(rels)
    if args.out:
        with open(args.out, 'w') as fh:
            json.dump(dict(configs=configs, errors=errors), fh, indent=0, sort_keys=True)
        print(f'{len(configs)} configs merged and written to {args.out}'
              + (f'; {len(errors)} do not parse: {sorted(errors)}' if errors else ''))
        return 1 if errors else 0
    with open(args.compare) as fh:
        before = json.load(fh)['configs']
    same, bad = 0, 0
    for rel in rels:
        if rel in errors:
            print(f'DOES NOT PARSE {rel}: {errors[rel]}')
            bad += 1
        elif rel not in before:
            print(f'NEW (not in the dump) {rel}')
        else:
            diff = differences(before[rel], configs[rel])
            if diff:
                print(f'DIFFERS {rel}: {", ".join(diff)}')
                bad += 1
            else:
                same += 1
    for rel in sorted(set(before) - set(rels)) if not args.paths else []:
        print(f'MISSING {rel} (in the dump, not compared)')
        bad += 1
    print(f'{same} configs merge to the same content as in {args.compare}; {bad} '
          'differ, do not parse or are missing')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
