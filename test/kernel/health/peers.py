# Real peers for the health probes' kernel tests, each printing "ready" once it listens:
#   smtpd ADDR PORT        Python's own SMTP server (smtpd.DebuggingServer, the stdlib module)
#   smtpd-multiline ADDR PORT   the same, greeting in two lines (220-... then 220 ..., RFC 5321 4.2)
#   greet ADDR PORT TEXT   a TCP listener that only greets TEXT (an MTA refusing service: 554)
#   sctp ADDR PORT         an SCTP listener (the kernel's SCTP) that reads each association to its end
import asyncore
import socket
import sys
import threading
import warnings

warnings.simplefilter("ignore")


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def drain(conn):
    with conn:
        while conn.recv(4096):
            pass


def listen(addr, port, kind, proto):
    s = socket.socket(family(addr), kind, proto)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if s.family == socket.AF_INET6:
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    s.bind((addr, port))
    s.listen(64)
    return s


def serve(s, greeting=None):
    print("ready", flush=True)
    while True:
        conn, _ = s.accept()
        if greeting is not None:
            conn.sendall(greeting.encode() + b"\r\n")
        threading.Thread(target=drain, args=(conn,), daemon=True).start()


def main():
    what, addr, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    if what in ("smtpd", "smtpd-multiline"):
        import smtpd

        class MultiLineGreeting(smtpd.SMTPChannel):
            def push(self, msg):
                if not getattr(self, "greeted", False) and msg.startswith("220 "):
                    self.greeted = True
                    msg = "220-" + msg[4:] + "\r\n220 " + msg[4:]
                super().push(msg)

        server = smtpd.DebuggingServer((addr, port), None)
        if what == "smtpd-multiline":
            server.channel_class = MultiLineGreeting
        print("ready", flush=True)
        asyncore.loop()
    elif what == "greet":
        serve(listen(addr, port, socket.SOCK_STREAM, 0), sys.argv[4])
    elif what == "sctp":
        serve(listen(addr, port, socket.SOCK_STREAM, socket.IPPROTO_SCTP))
    else:
        sys.exit("unknown peer " + what)


main()
