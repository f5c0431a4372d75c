"""Deterministic generators of hostile stored values for tests/test_hostile.py.

`cookie_values(now)` yields dicts {category, text, cookies}: `text` is what goes
after `__session=` (the browser test encodes it when it cannot be a cookie value
as it is), `cookies` are other cookies set at the same time (look-alikes).
`tab_values(now)` yields {category, text}: the raw `sessionStorage.__session_tab`.

Every value is generated from `random.Random(seed)`, relative to a fixed clock
`now` (ms), so the same seed gives byte-identical values on every run. The tests
never trust the generator's idea of validity: a JavaScript oracle decides from
what the browser really stored.
"""
from __future__ import annotations

import json
import random
from urllib.parse import quote

MINUTE = 60000
HEX = '0123456789abcdef'
LOOK_ALIKES = ('x__session', '__session2', '__sessionx', '_session', '__Session', 'session', '__session_tab')


def encode(text: str) -> str:
    """JavaScript's encodeURIComponent."""
    return quote(text, safe="-_.!~*'()")


def uuid4(rng: random.Random) -> str:
    digits = [rng.choice(HEX) for _ in range(32)]
    digits[12] = '4'
    digits[16] = rng.choice('89ab')
    s = ''.join(digits)
    return f'{s[:8]}-{s[8:12]}-{s[12:16]}-{s[16:20]}-{s[20:]}'


def iso(ms: float) -> str:
    from datetime import datetime, timezone
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.') + f'{int(ms) % 1000:03d}Z'


def session(rng: random.Random, now: int, **fields) -> dict:
    """A well-formed, unexpired record as session-utils (or 0.2.4) writes it."""
    minutes = rng.choice([1, 5, 30, 30, 30, 60, 1440])
    duration = minutes * MINUTE
    created = now - rng.randrange(0, duration)
    expires = created + duration
    if expires <= now + 1000:
        expires = now + duration // 2
    record = {'id': uuid4(rng), 'created': created, 'createdAt': iso(created),
              'expires': expires, 'expiresAt': iso(expires), 'duration': duration}
    if rng.random() < 0.3:
        modified = rng.randrange(created, now + 1)
        record.update(modified=modified, modifiedAt=iso(modified), expires=modified + duration,
                      expiresAt=iso(modified + duration))
    record.update(fields)
    return record


def dumps(value) -> str:
    return json.dumps(value, separators=(',', ':'), ensure_ascii=False, allow_nan=True)


def random_unicode(rng: random.Random, n: int) -> str:
    out = []
    for _ in range(n):
        pick = rng.random()
        if pick < 0.4:
            out.append(chr(rng.randrange(0x20, 0x7f)))
        elif pick < 0.6:
            out.append(chr(rng.randrange(0x80, 0x800)))
        elif pick < 0.75:
            out.append(chr(rng.randrange(0x800, 0xd800)))
        elif pick < 0.85:
            out.append(chr(rng.randrange(0x10000, 0x110000)))
        elif pick < 0.92:
            out.append(chr(rng.randrange(0xd800, 0xe000)))      # a lone surrogate
        else:
            out.append(chr(rng.randrange(0, 0x20)))            # control characters
    return ''.join(out)


def cookie_values(now: int, seed: int = 1234, count: int = 1100) -> list[dict]:
    rng = random.Random(seed)
    values: list[dict] = []

    def add(category, text, cookies=()):
        values.append({'category': category, 'text': text, 'cookies': list(cookies)})

    def valid_text():
        text = dumps(session(rng, now))
        return encode(text) if rng.random() < 0.7 else text

    generators = []

    def gen(f):
        generators.append(f)
        return f

    @gen
    def random_bytes():
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 80)))
        add('random bytes', data.decode('latin-1'))

    @gen
    def unicode_text():
        add('random unicode', random_unicode(rng, rng.randrange(1, 60)))

    @gen
    def bad_percent():
        good = encode(dumps(session(rng, now)))
        cut = rng.randrange(1, len(good))
        broken = rng.choice(['%', '%2', '%zz', '%E0%A4%A', '%C0%AF', '%ED%A0%80', '%FF', '%%', '%u0041'])
        add('bad percent-encoding', good[:cut] + broken + good[cut:])

    @gen
    def truncated():
        text = dumps(session(rng, now, **({'plan': 'pro'} if rng.random() < 0.5 else {})))
        cut = rng.randrange(0, len(text))
        add('truncated JSON', encode(text[:cut]) if rng.random() < 0.7 else text[:cut])

    @gen
    def wrong_shape():
        good = session(rng, now)
        choice = rng.randrange(14)
        if choice == 0:
            value = rng.choice([[], [good], [1, 2, 3], {}, '', 'session', None, 0, -1, 1e308, True, False])
        elif choice == 1:
            value = dict(good, id=rng.choice([None, 5, 0, True, [], {}, [good['id']], {'id': good['id']}]))
        elif choice in (2, 3, 4):
            field = ('created', 'expires', 'duration')[choice - 2]
            value = dict(good, **{field: rng.choice([None, str(good[field]), True, [], {}, [good[field]]])})
        elif choice == 5:
            value = {k: v for k, v in good.items() if k != rng.choice(['id', 'created', 'expires', 'duration'])}
        elif choice == 6:
            value = {'session': good}
        elif choice == 7:
            value = dumps(good)                          # a JSON string holding JSON
        elif choice == 8:
            value = [good['id'], good['created'], good['expires']]
        else:
            value = rng.choice([None, 'null', 'undefined', '[object Object]', 0, [None], {'length': 3}])
        text = dumps(value)
        add('wrong shape', encode(text) if rng.random() < 0.8 else text)

    @gen
    def timestamps():
        good = session(rng, now)
        field = rng.choice(['created', 'expires', 'duration'])
        bad = rng.choice(['NaN', 'Infinity', '-Infinity', '1e999', '-1e999', '1e300', '-1e300',
                          '-1', '0', str(now + 10 ** rng.randrange(5, 13)), str(-now),
                          str(now - 10 ** rng.randrange(3, 12)), '8.64e15', '8.64e15+1', '1.5', '-0'])
        text = dumps(good).replace(f'"{field}":{good[field]}', f'"{field}":{bad}')
        add('NaN/huge/negative/future timestamps', encode(text) if rng.random() < 0.8 else text)

    @gen
    def expired_or_future():
        duration = 30 * MINUTE
        kind = rng.randrange(4)
        if kind == 0:                  # expired
            expires = now - rng.randrange(1, 10 ** 9)
        elif kind == 1:                # expires further out than its duration allows (clock went back)
            expires = now + duration + MINUTE + rng.randrange(1, 10 ** 10)
        elif kind == 2:                # expires right now
            expires = now
        else:                          # duration zero or negative
            duration = rng.choice([0, -MINUTE, -1])
            expires = now + MINUTE // 2
        good = session(rng, now, expires=expires, expiresAt=iso(max(expires, 0)), duration=duration)
        add('expired/clock-back', encode(dumps(good)))

    @gen
    def big():
        kind = rng.randrange(3)
        if kind == 0:                  # a valid session padded to about the 4 KB limit
            record = session(rng, now)
            base = len('__session=' + encode(dumps(dict(record, pad=''))))
            record['pad'] = 'p' * (4096 - base + rng.randrange(-3, 4))
            add('4 KB values', encode(dumps(record)))
        elif kind == 1:
            add('4 KB values', ''.join(rng.choice('abcdef%{}":,') for _ in range(rng.randrange(4000, 4100))))
        else:
            add('4 KB values', encode(dumps([session(rng, now)] * 12))[:4086])

    @gen
    def proto():
        good = session(rng, now)
        kind = rng.randrange(5)
        if kind == 0:
            text = dumps(good)[:-1] + ',"__proto__":{"polluted":1,"id":"x"}}'
        elif kind == 1:
            text = dumps(good)[:-1] + ',"constructor":{"prototype":{"polluted":1}}}'
        elif kind == 2:
            text = '{"__proto__":' + dumps(good) + '}'
        elif kind == 3:
            text = dumps(good)[:-1] + ',"prototype":{"polluted":1},"__proto__":null}'
        else:
            text = '{"__proto__":{"__proto__":{"polluted":1}},"constructor":null}'
        add('__proto__/constructor keys', encode(text) if rng.random() < 0.7 else text)

    @gen
    def look_alike():
        names = rng.sample(LOOK_ALIKES, rng.randrange(1, 4))
        others = [f'{name}={valid_text()}' for name in names]
        # half of them with no __session cookie at all, half with one (valid or not)
        pick = rng.randrange(3)
        text = None if pick == 0 else valid_text() if pick == 1 else encode('{"id":"nope"}')
        add('look-alike cookies', text, others)

    @gen
    def valid():
        extra = rng.choice([{}, {'plan': 'pro'}, {'n': rng.randrange(10 ** 6)}, {'nested': {'a': [1, 2]}},
                            {'emoji': '\U0001f600é'}, {'__proto__x': 1}])
        text = dumps(session(rng, now, **extra))
        add('valid unexpired', encode(text) if rng.random() < 0.7 else text)

    weights = {random_bytes: 8, unicode_text: 8, bad_percent: 8, truncated: 9, wrong_shape: 14,
               timestamps: 12, expired_or_future: 8, big: 4, proto: 6, look_alike: 6, valid: 17}
    population = [f for f, w in weights.items() for _ in range(w)]
    for f in generators:          # every category at least a few times
        for _ in range(5):
            f()
    while len(values) < count:
        rng.choice(population)()
    return values


def suspicious_cookie_values(now: int, seed: int = 4321) -> list[dict]:
    """Well-formed records whose fields are out of contract in ways parse() may not check."""
    rng = random.Random(seed)
    out = []
    for bad_id in ['x', ' ', 'ABCDEF', '00000000-0000-0000-0000-000000000000', 'a' * 300, '<img src=x>',
                   'B6AE6C2A-DEE2-4A9A-9475-D4AA01E01BEA']:
        out.append({'category': 'id not a v4 UUID', 'text': encode(dumps(session(rng, now, id=bad_id))), 'cookies': []})
    for field, bad in [('createdAt', 5), ('createdAt', {'a': 1}), ('expiresAt', None), ('expiresAt', 'tomorrow'),
                       ('modified', 'x'), ('modifiedAt', [])]:
        out.append({'category': 'optional field of the wrong type',
                    'text': encode(dumps(session(rng, now, **{field: bad}))), 'cookies': []})
    huge = 10 ** 300
    for duration, expires in [(huge, huge), (huge, now + 10 * MINUTE), (10 ** 15, now + 10 ** 15 - 1)]:
        out.append({'category': 'never expires (duration > 400 days)',
                    'text': encode(dumps(session(rng, now, duration=duration, expires=expires))), 'cookies': []})
    for created in [now + 10 ** 9, -10 ** 15, now + 30 * MINUTE]:
        out.append({'category': 'created in the future / before 1970',
                    'text': encode(dumps(session(rng, now, created=created, createdAt=iso(max(created, 0))))),
                    'cookies': []})
    return out


def tab_values(now: int, seed: int = 1234, count: int = 220) -> list[dict]:
    rng = random.Random(seed + 1)
    values = []

    def tab(**fields):
        created = now - rng.randrange(0, 10 ** 8)
        record = {'id': uuid4(rng), 'created': created, 'createdAt': iso(created), 'live': 0}
        record.update(fields)
        return record

    def pick():
        kind = rng.randrange(11)
        if kind == 0:
            return 'random bytes', bytes(rng.randrange(256) for _ in range(rng.randrange(0, 60))).decode('latin-1')
        if kind == 1:
            return 'random unicode', random_unicode(rng, rng.randrange(1, 40))
        if kind == 2:
            text = dumps(tab())
            return 'truncated JSON', text[:rng.randrange(0, len(text))]
        if kind == 3:
            return 'wrong shape', dumps(rng.choice([[], [tab()], 'x', None, 0, 1e308, True, {}, {'tab': tab()},
                                                     tab(id=rng.choice([None, 1, [], {}])),
                                                     tab(created=rng.choice([None, '1', [], True]))]))
        if kind == 4:
            text = dumps(tab())
            bad = rng.choice(['NaN', 'Infinity', '-1e999', '1e999'])
            return 'NaN/huge timestamps', text.replace('"created":', f'"created":{bad},"x":', 1)
        if kind == 5:
            return '4 KB values', dumps(tab(pad='q' * rng.randrange(3000, 5000)))
        if kind == 6:
            good = dumps(tab())
            return '__proto__/constructor keys', rng.choice([
                good[:-1] + ',"__proto__":{"polluted":1}}', '{"__proto__":' + good + '}',
                good[:-1] + ',"constructor":{"prototype":{"polluted":1}}}'])
        if kind == 7:
            return 'live mark (duplicated tab)', dumps(tab(live=rng.choice([1, 0.5, True, 'x'])))
        if kind == 8:
            return 'bad percent-encoding', encode(dumps(tab()))[:rng.randrange(1, 40)] + '%zz'
        return 'valid', dumps(tab(live=rng.choice([0, None, False])))

    while len(values) < count:
        category, text = pick()
        values.append({'category': category, 'text': text})
    return values


def suspicious_tab_values(now: int, seed: int = 99) -> list[dict]:
    rng = random.Random(seed)
    out = []
    for bad_id in ['', 'x', '00000000-0000-0000-0000-000000000000', 'a' * 500]:
        out.append({'category': 'tab id not a v4 UUID',
                    'text': dumps({'id': bad_id, 'created': now - 1000, 'createdAt': iso(now - 1000), 'live': 0})})
    for bad in [5, None, {'a': 1}, 'yesterday']:
        out.append({'category': 'tab createdAt of the wrong type',
                    'text': dumps({'id': uuid4(rng), 'created': now - 1000, 'createdAt': bad, 'live': 0})})
    return out
