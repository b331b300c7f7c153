"""Print ``name=value`` of a session cookie for a fresh login session of a bench user (for ``wrk -H``).

    python bench/cookie.py --url sqlite --login rep01
"""
import argparse
import sys

from sqlalchemy import select

import common


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--url", default="sqlite")
    p.add_argument("--login", default="rep01")
    args = p.parse_args(argv)
    from core.models import User
    app = common.make_app(common.resolve_url(args.url))
    gx = app.extensions["guanxi"]
    with gx.system_session("bench: cookie") as s:
        user_id = s.execute(select(User.id).where(User.login == args.login)).scalar_one()
    print(common.session_cookie(app, user_id))
    gx.engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
