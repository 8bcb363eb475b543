__version__ = '0.1.0'


def parse_version_info(version_str: str) -> tuple:
    """'0.1.0rc1' -> (0, 1, 0, 'rc1'), the form OpenMMLab packages expose."""
    parts = []
    for x in version_str.split('.'):
        if x.isdigit():
            parts.append(int(x))
        else:
            digits = ''.join(c for c in x if c.isdigit())
            rest = x[len(digits):]
            parts.extend([int(digits) if digits else 0, rest])
    return tuple(parts)


version_info = parse_version_info(__version__)
