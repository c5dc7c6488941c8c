"Reads the package metadata from settings.ini, as nbdev's classic template does."
from configparser import ConfigParser
from pathlib import Path
import setuptools

cfg = ConfigParser(delimiters=['='])
cfg.read(Path(__file__).parent/'settings.ini', encoding='utf-8')
cfg = cfg['DEFAULT']
for k in 'lib_name version description author author_email license min_python git_url'.split():
    assert k in cfg, f'settings.ini: missing {k}'

licenses = {'apache2': ('Apache Software License 2.0', 'OSI Approved :: Apache Software License')}
statuses = ['1 - Planning', '2 - Pre-Alpha', '3 - Alpha', '4 - Beta', '5 - Production/Stable']
lic = licenses[cfg['license']]
requirements = cfg.get('requirements', '').split()
# every `<name>_requirements` key becomes the extra `<name>`, e.g. `pip install clipart[dev]`
extras = {k[:-len('_requirements')]: v.split() for k, v in cfg.items() if k.endswith('_requirements')}
scripts = [s.strip() for s in cfg.get('console_scripts', '').split() if s.strip()]

setuptools.setup(
    name=cfg['lib_name'], version=cfg['version'], description=cfg['description'],
    license=lic[0], author=cfg['author'], author_email=cfg['author_email'],
    keywords=cfg.get('keywords', ''), url=cfg['git_url'],
    classifiers=[f'Development Status :: {statuses[int(cfg["status"])-1]}', 'Intended Audience :: Science/Research',
                 f'License :: {lic[1]}', 'Natural Language :: English', 'Programming Language :: Python :: 3'],
    packages=setuptools.find_packages(include=[cfg['lib_name'], cfg['lib_name']+'.*']),
    include_package_data=True,
    package_data={cfg['lib_name']: ['model_configs/*.json'],  # the shipped samples: a real vocabulary and 48 artworks
                  cfg['lib_name']+'.data': ['samples/*.csv', 'samples/*.md', 'samples/aic48/*.csv', 'samples/aic48/train/*.jpg'],
                  cfg['lib_name']+'.app': ['static/*.css', 'static/*.js'],   # the web app's style sheets and script
                  cfg['lib_name']+'.catalogue': ['schemas/*.json', 'schemas/*.md', 'schemas/linked-art/*']},   # IIIF, Linked Art
    install_requires=requirements, extras_require=extras, python_requires='>=' + cfg['min_python'],
    long_description=(Path(__file__).parent/'README.md').read_text(encoding='utf-8'),
    long_description_content_type='text/markdown', zip_safe=False,
    entry_points={'console_scripts': scripts, 'nbdev': [f'{cfg["lib_name"]}={cfg["lib_name"]}._modidx:d']})
