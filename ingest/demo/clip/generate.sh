#!/bin/sh
# Regenerates the demo clip that package demo embeds (go:embed): run it from
# anywhere, commit its output. The binary ships the output, not this script:
# users need no ffmpeg.
#
#   clock.h264  60 s of H.264 (Annex-B, an access unit delimiter before every
#               frame, SPS/PPS before every IDR), 640x360, 25 fps, no
#               B-frames, one closed 2 s GOP per pair of seconds: GOP k shows
#               the seconds 2k and 2k+1 of a minute in large digits over
#               ffmpeg's testsrc2 pattern, plus the frame within the second.
#   clock.aac   8 s of AAC-LC (ADTS), 48 kHz mono: a 1 kHz tone with a
#               higher beep at the start of every second. The encoder's
#               priming frame is cut so the clip is exactly 375 frames
#               (8 s) and loops without a click.
#
# Both are license-clean: ffmpeg's lavfi sources and DejaVu Sans (Debian
# fonts-dejavu-core, a free font; only the rendered pixels are shipped).
# Needs ffmpeg with libx264, libfreetype (drawtext), python3 and the font:
#   apt-get install -y ffmpeg fonts-dejavu-core
set -eu
cd "$(dirname "$0")"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf
[ -f "$FONT" ] || { echo "missing $FONT: apt-get install -y fonts-dejavu-core" >&2; exit 1; }

ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "testsrc2=size=640x360:rate=25:duration=60" \
  -vf "drawbox=x=170:y=70:w=300:h=220:color=black@0.75:t=fill,\
drawtext=fontfile=$FONT:text='%{eif\:mod(t\,60)\:d\:2}':fontsize=170:fontcolor=white:x=(w-tw)/2:y=85,\
drawtext=fontfile=$FONT:text='frame %{eif\:mod(n\,25)\:d\:2}':fontsize=22:fontcolor=white:x=(w-tw)/2:y=255,\
drawtext=fontfile=$FONT:text='Rewind demo/clock · second of the minute (UTC)':fontsize=18:fontcolor=white:box=1:boxcolor=black@0.6:x=(w-tw)/2:y=h-32" \
  -c:v libx264 -preset slow -profile:v high -pix_fmt yuv420p -bf 0 \
  -b:v 180k -maxrate 260k -bufsize 520k \
  -x264-params "keyint=50:min-keyint=50:scenecut=0:open-gop=0:aud=1:repeat-headers=1" \
  -bsf:v h264_mp4toannexb -f h264 clock.h264

# 9 s encoded, then the priming frame dropped and 375 frames kept (8 s).
ffmpeg -hide_banner -loglevel error -y \
  -f lavfi -i "sine=frequency=1000:beep_factor=2:sample_rate=48000:duration=9" \
  -af "volume=0.3" -c:a aac -b:a 48k -ac 1 -f adts clock-full.aac
# ADTS frames are self-delimiting: the 13-bit frame length sits in header bytes 3..5.
python3 - <<'PY'
b = open("clock-full.aac", "rb").read()
frames, pos = [], 0
while pos + 7 <= len(b):
    assert b[pos] == 0xFF and b[pos + 1] & 0xF0 == 0xF0, "not ADTS"
    n = ((b[pos + 3] & 3) << 11) | (b[pos + 4] << 3) | (b[pos + 5] >> 5)
    frames.append(b[pos:pos + n])
    pos += n
open("clock.aac", "wb").write(b"".join(frames[1:376]))
PY
rm -f clock-full.aac
ls -l clock.h264 clock.aac
