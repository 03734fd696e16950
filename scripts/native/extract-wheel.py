#!/usr/bin/env python3
"""Unpacks what the tfjs-node addon links against from a TensorFlow 2.x CPU wheel.

Usage: extract-wheel.py WHEEL OUT

Writes OUT/lib/libtensorflow.so.2 (the wheel's libtensorflow_cc.so.2, which
exports the C and eager C APIs the addon calls), OUT/lib/libtensorflow_framework.so.2
and, under OUT/include/, the header directories the addon's sources include.
Prints one JSON line: {"headers": count, "headerBytes": bytes, "libs": {name: bytes}}.
Exits non-zero with a one-line message when WHEEL is not such a wheel.

Run by scripts/native/build.mjs; standard library only, so any python3 will do.
"""
import json
import os
import shutil
import sys
import zipfile

# Wheel member -> file name under OUT/lib.
LIBS = {
    'tensorflow/libtensorflow_cc.so.2': 'libtensorflow.so.2',
    'tensorflow/libtensorflow_framework.so.2': 'libtensorflow_framework.so.2',
}
INCLUDE_PREFIX = 'tensorflow/include/'
# The addon includes headers of tensorflow/c and tensorflow/core/platform, and
# those include xla/tsl and tsl headers; the wheel's other headers are not needed.
HEADER_DIRS = ('tensorflow/c/', 'tensorflow/core/platform/', 'xla/tsl/', 'tsl/')


def copy_member(z, member, dst, chunk):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    with z.open(member) as src, open(dst, 'wb') as out:
        shutil.copyfileobj(src, out, chunk)


def main(argv):
    if len(argv) != 3:
        sys.exit('usage: extract-wheel.py WHEEL OUT')
    wheel, out = argv[1], argv[2]
    try:
        z = zipfile.ZipFile(wheel)
    except Exception as e:  # a wheel is a zip; anything else is the wrong file
        sys.exit('not a readable wheel (zip): %s' % e)
    with z:
        names = set(z.namelist())
        for member in LIBS:
            if member not in names:
                sys.exit('the wheel has no %s: not a TensorFlow 2.x CPU wheel for Linux?' % member)

        headers = header_bytes = 0
        for info in z.infolist():
            if info.is_dir() or not info.filename.startswith(INCLUDE_PREFIX):
                continue
            rel = info.filename[len(INCLUDE_PREFIX):]
            if not rel.startswith(HEADER_DIRS):
                continue
            copy_member(z, info, os.path.join(out, 'include', rel), 1 << 20)
            headers += 1
            header_bytes += info.file_size

        libs = {}
        for member, name in LIBS.items():
            copy_member(z, member, os.path.join(out, 'lib', name), 1 << 22)
            libs[name] = z.getinfo(member).file_size

    print(json.dumps({'headers': headers, 'headerBytes': header_bytes, 'libs': libs}))


if __name__ == '__main__':
    main(sys.argv)
