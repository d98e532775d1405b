export { birdConfig, peerProtocol, staticProtocol, validPassword, type BirdInput } from './bird-config.js';
export { established, parseProtocols, sessionStates, type BgpSessionState } from './birdc-protocols.js';
export { nodeBgpSettings, type NodeBgpSettings } from './node-settings.js';
export { peerConflict, planSpeaker, type SpeakerConflict, type SpeakerGroup, type SpeakerPlan, type SpeakerSession } from './speaker-plan.js';
