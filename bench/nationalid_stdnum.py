"""Time python-stdnum's is_valid() on the numbers bench/nationalid_test.go uses.

Run with Debian's interpreter, which sees the python3-stdnum package:

    /usr/bin/python3 bench/nationalid_stdnum.py

Prints one line per scheme: the scheme, then ns/op for a valid number and for the same
number with its last character replaced by '#' (as BenchmarkValidate/<CC>/<name>/invalid).
"""

import importlib
import timeit

import stdnum

INPUTS = {
    'AR/cuit': '20-05536168-2', 'AR/dni': '20.123.456', 'BR/cnpj': '16.727.230/0001-97',
    'BR/cpf': '390.533.447-05', 'CL/rut': '12.531.909-2', 'CO/nit': '213.123.432-1',
    'CR/cpf': '1-613-584', 'CR/cpj': '3-101-999999', 'CR/cr': '155812994816', 'CU/ni': '91021027775',
    'DO/cedula': '001-1391820-5', 'DO/rnc': '1-01-85004-3', 'EC/ci': '1714307103',
    'EC/ruc': '1792060346001', 'GT/nit': '576937-K', 'MX/curp': 'BOXW310820HNERXN09',
    'MX/rfc': 'GODE 561231 GR8', 'PE/cui': '10117410-2', 'PE/ruc': '20512333797',
    'PY/ruc': '80028061-0', 'SV/nit': '0614-050707-104-8', 'UY/rut': '21-100342-001-7',
    'VE/rif': 'V-11470283-4',
}


def ns_per_op(fn, number):
    timer = timeit.Timer(lambda: fn(number))
    loops, _ = timer.autorange()
    best = min(timer.repeat(repeat=5, number=loops))
    return best / loops * 1e9


def main():
    print('python-stdnum %s' % stdnum.__version__)
    for key, number in sorted(INPUTS.items()):
        module = importlib.import_module('stdnum.' + key.lower().replace('/', '.'))
        assert module.is_valid(number), key
        bad = number[:-1] + '#'
        assert not module.is_valid(bad), key
        print('%-10s %8.0f ns/op valid %8.0f ns/op invalid' % (
            key, ns_per_op(module.is_valid, number), ns_per_op(module.is_valid, bad)))


if __name__ == '__main__':
    main()
