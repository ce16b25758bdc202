"""Run kombu's own visibility-timeout sweep once, as a Python worker does between polls:
QoS.restore_visible restores every unacked entry whose index score is older than
now - visibility_timeout. Usage: kombu_sweep.py <redis url> <visibility timeout in seconds>"""
import sys

from kombu import Connection

url, visibility_timeout = sys.argv[1], float(sys.argv[2])
with Connection(url, transport_options={"visibility_timeout": visibility_timeout}) as conn:
    conn.channel().qos.restore_visible(num=1000)
print("swept")
