/* docker's default seccomp profile, linked into the binary as data. */
    .section .rodata
    .global mk_seccomp_default_json
    .type mk_seccomp_default_json, @object
    .balign 16
mk_seccomp_default_json:
    .incbin "data/seccomp-default.json"
    .byte 0
    .global mk_seccomp_default_json_end
mk_seccomp_default_json_end:
    .section .note.GNU-stack,"",@progbits
