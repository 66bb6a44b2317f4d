"""Which answer an HJ 212 upload gets (pure).

Message flows (HJ 212-2017, section 6): an upload with Flag bit A = 1 is answered with a data
reply 9014; a notice is answered with 9013; replies (9011-9014) are never answered. A command
the platform does not handle, sent with A = 1, is refused with a request reply 9011 carrying
``QnRtn=8`` (wrong CN, HJ 212-2017 Table 7).

References
----------
.. [1] HJ 212-2017, section 6 (message flows), Tables 6 and 7 (ExeRtn, QnRtn).
"""

from __future__ import annotations

from kilnwatch.ingest.hj212.encode import encode_reply
from kilnwatch.ingest.hj212.model import Packet

CN_REQUEST_REPLY = "9011"
CN_EXECUTION_RESULT = "9012"
CN_NOTICE_REPLY = "9013"
CN_DATA_REPLY = "9014"
REPLY_CNS = frozenset({CN_REQUEST_REPLY, CN_EXECUTION_RESULT, CN_NOTICE_REPLY, CN_DATA_REPLY})
#: Uploads stored through the sink (HJ 212-2017 command table: real-time, equipment state,
#: daily, running time, minute, hourly data, logger restart, field-device information).
DATA_CNS = frozenset({"2011", "2021", "2031", "2041", "2051", "2061", "2081", "3020"})
#: Notices from the device (HJ 212-2017: 1013 asks for a time calibration).
NOTICE_CNS = frozenset({"1013"})
QNRTN_WRONG_CN = "8"  # HJ 212-2017 Table 7


def is_data_upload(packet: Packet) -> bool:
    """True for uploads whose content is committed to the sink."""
    return packet.cn in DATA_CNS


def reply_for(packet: Packet) -> bytes | None:
    """The reply frame owed for an accepted packet, or None."""
    if not packet.wants_ack or packet.cn in REPLY_CNS:
        return None
    if packet.cn in DATA_CNS:
        return encode_reply(packet, CN_DATA_REPLY)
    if packet.cn in NOTICE_CNS:
        return encode_reply(packet, CN_NOTICE_REPLY)
    return encode_reply(packet, CN_REQUEST_REPLY, {"QnRtn": QNRTN_WRONG_CN})
