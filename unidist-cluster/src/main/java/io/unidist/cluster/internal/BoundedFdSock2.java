package io.unidist.cluster.internal;

import org.jgroups.blocks.cs.NioServer;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.FD_SOCK2;

/**
 * JGroups' FD_SOCK2 with its plain TCP port closed to what it needs; unidist builds every stack with it in place of
 * FD_SOCK2.
 *
 * <ul>
 *   <li><b>Frames of at most {@value #MAX_FRAME_BYTES} bytes.</b> JGroups sets no limit on this server: anyone who
 *       reached the port could send a valid greeting and a length prefix, and the member allocated that many bytes
 *       per connection (300 MB each was measured), enough to exhaust its heap with a few connections. FD_SOCK2's own
 *       messages are a few hundred bytes; a longer frame now closes the connection with a warning.</li>
 *   <li><b>The transport's address.</b> Without {@code bind_addr} FD_SOCK2 listens on every interface, even when the
 *       transport is bound to 127.0.0.1. Peers only ever connect to a member's transport address (+ offset), so it now
 *       listens there; an explicit {@code bind_addr} (or {@code -Djgroups.bind_addr}) is kept.</li>
 * </ul>
 * Everything else, its wire format included, is FD_SOCK2's; its log lines (such as the port it listens on) come from
 * the logger of this class.
 */
public class BoundedFdSock2 extends FD_SOCK2 {
    /** The longest frame the server reads; FD_SOCK2's messages are far shorter. */
    static final int MAX_FRAME_BYTES = 64 * 1024;

    /** For JGroups, which creates protocols by class; under FD_SOCK2's protocol id, so that its headers are FD_SOCK2's. */
    public BoundedFdSock2() {
        id = ClassConfigurator.getProtocolId(FD_SOCK2.class);
    }

    @Override
    public void start() throws Exception {
        if (bind_addr == null) {
            bind_addr = getTransport().getBindAddress();
        }
        super.start();
    }

    @Override
    protected NioServer createServer(int[] bindPorts) {
        NioServer server = super.createServer(bindPorts);
        server.setMaxLength(MAX_FRAME_BYTES); // read by each connection when it is accepted, after this
        return server;
    }
}
