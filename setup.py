"""mmkd: knowledge distillation across modalities and model sizes, an OpenMMLab plugin.

Install into an environment that already has torch, mmcv and the OpenMMLab packages
(``bash tools/setup_env.sh`` builds one). ``pip install .`` copies configs/, tools/ and
model-index.yml into ``mmkd/.mim`` so that ``mim train mmkd <config>`` finds them.
"""
import os
import os.path as osp
import shutil
import sys

from setuptools import find_packages, setup

HERE = osp.dirname(osp.abspath(__file__))
MIM_FILES = ['configs', 'tools', 'model-index.yml']


def get_version():
    scope = {}
    with open(osp.join(HERE, 'mmkd', 'version.py')) as f:
        exec(compile(f.read(), 'version.py', 'exec'), scope)
    return scope['__version__']


def parse_requirements(fname):
    reqs = []
    with open(osp.join(HERE, 'requirements', fname)) as f:
        for line in f:
            line = line.split('#', 1)[0].strip()
            if line and not line.startswith('-'):
                reqs.append(line)
    return reqs


def add_mim_extension():
    """Copy the files mim needs into mmkd/.mim (the OpenMMLab layout), except for
    `develop`, where mim cannot follow the package anyway."""
    if 'develop' in sys.argv:
        return
    mim_path = osp.join(HERE, 'mmkd', '.mim')
    os.makedirs(mim_path, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(HERE, name), osp.join(mim_path, name)
        if osp.isdir(dst) and not osp.islink(dst):
            shutil.rmtree(dst)
        elif osp.lexists(dst):
            os.remove(dst)
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.pyc'))
        elif osp.isfile(src):
            shutil.copyfile(src, dst)


def mim_package_data():
    files = []
    root = osp.join(HERE, 'mmkd')
    for dirpath, _, filenames in os.walk(osp.join(root, '.mim')):
        for fn in filenames:
            files.append(osp.relpath(osp.join(dirpath, fn), root))
    return files


if __name__ == '__main__':
    add_mim_extension()
    setup(
        name='mmkd',
        version=get_version(),
        description='Knowledge distillation across sensing modalities and model sizes '
        'for OpenMMLab (mmpretrain, mmsegmentation, mmdetection)',
        long_description=open(osp.join(HERE, 'README.md'), encoding='utf-8').read(),
        long_description_content_type='text/markdown',
        keywords='knowledge distillation, cross-modal, SAR, remote sensing, OpenMMLab',
        packages=find_packages(exclude=('configs', 'tools', 'tests', 'demo')),
        package_data={'mmkd': mim_package_data()},
        include_package_data=True,
        python_requires='>=3.8',
        license='Apache License 2.0',
        install_requires=parse_requirements('runtime.txt'),
        extras_require={'tests': parse_requirements('tests.txt'),
                        'docs': parse_requirements('docs.txt')},
        classifiers=[
            'License :: OSI Approved :: Apache Software License',
            'Programming Language :: Python :: 3',
            'Topic :: Scientific/Engineering :: Artificial Intelligence',
        ],
        zip_safe=False)
