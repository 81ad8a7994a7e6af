{
  "targets": [
    {
      "target_name": "hastor_native",
      "sources": [
        "native/addon.cc",
        "native/file-lock.cc",
        "native/netlink-socket.cc",
        "native/sys-error.cc",
        "native/threads.cc",
        "native/wake-signal.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++20"],
      "cflags": ["-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "ldflags": ["-pthread"],
      "libraries": ["-lrt"],
      "conditions": [["OS!='linux'", {"type": "none"}]]
    }
  ]
}
