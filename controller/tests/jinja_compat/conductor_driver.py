"""Prints each container's environment as MaestroNG 0.8.3 computes it.

Loads the environment file given as argument with MaestroNG's own loader
and builds its Conductor, which computes every container's environment
(its own variables and the link variables of its dependencies) without
contacting any ship. Writes {container: {name: str(value)}} as JSON.
"""
import json
import sys

from maestro import loader, maestro


def main():
    conductor = maestro.Conductor(loader.load(sys.argv[1]))
    json.dump({name: {k: str(v) for k, v in c.env.items()}
               for name, c in conductor.containers.items()},
              sys.stdout, sort_keys=True)


main()
