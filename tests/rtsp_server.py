"""A real RTSP server on loopback for the tests: GStreamer's RTSP server (Debian packages
python3-gi, gir1.2-gst-rtsp-server-1.0, gstreamer1.0-plugins-good), run with Debian's own
/usr/bin/python3 because PyGObject lives there, not in our venv.

It serves an MJPEG AVI file (as cv2.VideoWriter writes with fourcc MJPG) as RTP/JPEG at
/live, paced by the file's own timestamps. Frames are re-encoded by GStreamer's jpegenc:
RTP/JPEG (RFC 2435) carries only baseline JPEG with the standard tables, which OpenCV's own
MJPG writer does not always produce.

    /usr/bin/python3 tests/rtsp_server.py PORT VIDEO.avi [USER PASSWORD]

With USER and PASSWORD the stream needs them (RTSP Basic authentication).
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> int:
    port, video = sys.argv[1], sys.argv[2]
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service(port)
    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(
        f'( filesrc location="{video}" ! avidemux ! jpegdec ! videoconvert ! '
        'video/x-raw,format=I420 ! jpegenc quality=85 ! rtpjpegpay name=pay0 pt=26 )')
    # One media per client: a shared one being torn down after our DESCRIBE pre-check could
    # race with the next client and answer 503.
    factory.set_shared(False)
    if len(sys.argv) > 4:
        require_basic_auth(server, factory, sys.argv[3], sys.argv[4])
    server.get_mount_points().add_factory("/live", factory)
    if server.attach(None) == 0:
        print(f"cannot listen on 127.0.0.1:{port}", file=sys.stderr, flush=True)
        return 1
    print(f"serving rtsp://127.0.0.1:{port}/live", flush=True)
    GLib.MainLoop().run()
    return 0


def require_basic_auth(server, factory, user: str, password: str) -> None:
    auth = GstRtspServer.RTSPAuth()
    token = GstRtspServer.RTSPToken()
    token.set_string(GstRtspServer.RTSP_TOKEN_MEDIA_FACTORY_ROLE, "viewer")
    auth.add_basic(GstRtspServer.RTSPAuth.make_basic(user, password), token)
    server.set_auth(auth)
    permissions = GstRtspServer.RTSPPermissions()
    permissions.add_role("viewer")
    permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_ACCESS,
                                        True)
    permissions.add_permission_for_role("viewer", GstRtspServer.RTSP_PERM_MEDIA_FACTORY_CONSTRUCT,
                                        True)
    factory.set_permissions(permissions)


if __name__ == "__main__":
    sys.exit(main())
