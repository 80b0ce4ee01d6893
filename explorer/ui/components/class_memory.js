// The class this browser teaches or has joined, kept in its own storage, so that a reload or a session the
// server dropped (a phone asleep for over a minute) takes it back. `keep` is the session's class (or null),
// `ask` is true until the session has a class of its own or has tried the kept one: then the page hands the
// server what it keeps, once, and the server checks it with the class store before using any of it.
const KEY = "vae-latent-explorer-class";
const ASKED = new WeakSet(); // parentElement: asked once per mount

export default function ({ data, parentElement, setTriggerValue }) {
  let kept = null;
  try {
    kept = window.localStorage.getItem(KEY);
    if (data.keep) window.localStorage.setItem(KEY, JSON.stringify(data.keep));
    else if (!data.ask) window.localStorage.removeItem(KEY); // the session left or closed its class
  } catch (e) {
    return; // storage is off (a private window): the class lasts as long as the session
  }
  if (data.ask && !data.keep && kept && !ASKED.has(parentElement)) {
    ASKED.add(parentElement);
    try {
      setTriggerValue("kept", JSON.parse(kept));
    } catch (e) {
      window.localStorage.removeItem(KEY);
    }
  }
}
