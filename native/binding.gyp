{
  "targets": [
    {
      "target_name": "packet_socket",
      "sources": ["packet_socket.c"],
      "cflags": ["-std=gnu11", "-Wall", "-Wextra", "-O2"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
