package io.unidist.cluster.internal;

import java.util.Iterator;
import org.jgroups.Message;
import org.jgroups.conf.ClassConfigurator;
import org.jgroups.protocols.SERIALIZE;
import org.jgroups.protocols.pbcast.GMS;
import org.jgroups.util.MessageBatch;

/**
 * JGroups' SERIALIZE that delivers a message only if it is the one its envelope announces; unidist builds every
 * stack with it in place of SERIALIZE.
 *
 * <p>Why: SERIALIZE wraps a whole message (headers included) into the payload of an envelope that carries only a copy
 * of the GMS header, so that an encryption protocol below can encrypt the headers too. ASYM_ENCRYPT lets a few GMS
 * messages through <em>unencrypted</em>, judged by that envelope header alone (JOIN_REQ, MERGE_REQ, MERGE_RSP,
 * VIEW_ACK, GET_DIGEST_REQ and _RSP: a joiner has no key yet). JGroups' SERIALIZE then unwraps whatever the payload
 * holds, so anyone who can send a packet could wrap any message (a Raft append, a unidist command) in a JOIN_REQ
 * envelope and have it delivered without the group key. Here the unwrapped message must carry the same GMS header
 * type as its envelope, or none if the envelope has none; anything else is dropped with a warning. Messages a member
 * sent always match, so nothing legitimate is lost, with SYM_ENCRYPT as with ASYM_ENCRYPT.
 *
 * <p>A payload that does not unwrap is dropped with a warning too (SERIALIZE would throw it up to the transport).
 */
public class CheckedSerialize extends SERIALIZE {
    private static final short GMS_HEADER_ID = ClassConfigurator.getProtocolId(GMS.class);

    /** For JGroups, which creates protocols by class; under SERIALIZE's protocol id, so that its headers are SERIALIZE's. */
    public CheckedSerialize() {
        id = ClassConfigurator.getProtocolId(SERIALIZE.class);
    }

    @Override
    public Object up(Message envelope) {
        Message inner = unwrap(envelope);
        return inner == null ? null : up_prot.up(inner);
    }

    @Override
    public void up(MessageBatch batch) {
        for (Iterator<Message> it = batch.iterator(); it.hasNext(); ) {
            Message inner = unwrap(it.next());
            if (inner == null) {
                it.remove();
            } else {
                ((org.jgroups.util.FastArray<Message>.FastIterator) it).replace(inner);
            }
        }
        if (!batch.isEmpty()) {
            up_prot.up(batch);
        }
    }

    /** The wrapped message if it matches its envelope, else null (logged). */
    private Message unwrap(Message envelope) {
        Message inner;
        try {
            inner = deserialize(envelope.getSrc(), envelope.getArray(), envelope.getOffset(), envelope.getLength());
        } catch (Exception e) {
            log.warn("%s: dropped a message from %s whose payload is not a serialized message: %s", local_addr,
                    envelope.getSrc(), e);
            return null;
        }
        byte outer = gmsType(envelope);
        byte wrapped = gmsType(inner);
        if (outer != wrapped) {
            log.warn("%s: dropped a message from %s whose envelope announces GMS type %s but which holds %s:"
                            + " a message smuggled past encryption", local_addr, envelope.getSrc(),
                    outer < 0 ? "none" : GMS.GmsHeader.type2String(outer),
                    wrapped < 0 ? "none" : GMS.GmsHeader.type2String(wrapped));
            return null;
        }
        return inner;
    }

    private static byte gmsType(Message msg) {
        return msg.getHeader(GMS_HEADER_ID) instanceof GMS.GmsHeader header ? header.getType() : -1;
    }
}
