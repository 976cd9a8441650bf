import { BrowserAuth } from '../src/browser/index.ts'; const a = new BrowserAuth({clientId:'x', redirectUri:'https://a.b/'}); await a.handleRedirect(); console.log(await a.fetch('/me'));
