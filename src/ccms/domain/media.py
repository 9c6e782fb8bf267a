"""Call media types (the vendor's "Table 1", ``mediaType``)."""

from __future__ import annotations

import enum


class MediaType(enum.IntEnum):
    UNKNOWN = 0
    CHAT = 1
    WEBPHONE = 2
    ESCORT = 3
    CALLBACK = 4
    PHONE = 5
    EMAIL = 6
    FAX = 7
    VIDEO = 8
    WHITEBOARD = 9
    APP_SHARE = 10
    FILE_TRANSFER = 11
    VIDEO_2B1D = 12
    VIDEO_6B1D = 13
    OPS = 14
    PREDICT_OUTBOUND = 15
    PREVIEW_OUTBOUND = 16
    MSG = 17
    WEBPHONE_VIDEO = 18
    PHONE_VIDEO = 19
    WEB_LEAVE_MESSAGE = 20
    DESKTOP_SHARE = 21
    VC_CALL = 22
    CLASSIC_MEDIA_TYPE_NUM = 23
    EMAIL_CHAT = 50
    WEB_CHAT = 51
    SMS_CHAT = 52
    SOCIAL_CHAT = 53
    FAX_CHAT = 54
    H5_CHAT = 55


# Older vendor versions reserve 50..99 for eMedia; ccms accepts any code in 0..99 so an
# adapter for a newer CTI is not refused, and names the ones it knows.
MEDIA_TYPE_MAX = 99
